# frozen_string_literal: true

require "set"

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
      @ignored_skus = ignored_skus.to_set
    end

    def discrepancies
      expected_by_sku = totals_by_sku(@ledger_rows)
      counted_by_sku = totals_by_sku(@scan_rows)
      skus = expected_by_sku.keys | counted_by_sku.keys
      skus.reject { |sku| @ignored_skus.include?(sku) }.filter_map do |sku|
        expected = expected_by_sku[sku]
        counted = counted_by_sku[sku]
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

    private

    def totals_by_sku(rows)
      rows.each_with_object(Hash.new(0)) { |row, totals| totals[row[:sku]] += row[:quantity] }
    end
  end
end
