# frozen_string_literal: true

module Inventory
  # Compares warehouse scanner counts with the stock ledger and reports drift.
  class StockReconciler
    Discrepancy = Struct.new(:sku, :expected, :counted, keyword_init: true) do
      def delta
        counted - expected
      end
    end

    # ledger_rows and scan_rows are arrays of { sku:, quantity: } hashes.
    def initialize(ledger_rows, scan_rows, ignored_skus: [])
      @ledger_rows = ledger_rows
      @scan_rows = scan_rows
      @ignored_skus = ignored_skus
    end

    def discrepancies
      skus = (@ledger_rows.map { |row| row[:sku] } + @scan_rows.map { |row| row[:sku] }).uniq
      skus.reject { |sku| @ignored_skus.include?(sku) }.filter_map do |sku|
        expected = @ledger_rows.select { |row| row[:sku] == sku }.sum { |row| row[:quantity] }
        counted = @scan_rows.select { |row| row[:sku] == sku }.sum { |row| row[:quantity] }
        next if expected == counted

        Discrepancy.new(sku: sku, expected: expected, counted: counted)
      end
    end

    def summary
      found = discrepancies
      {
        mismatched: found.size,
        missing_units: found.select { |d| d.delta.negative? }.sum { |d| -d.delta },
        surplus_units: found.select { |d| d.delta.positive? }.sum(&:delta)
      }
    end
  end
end
