# frozen_string_literal: true

require "csv"

module Importers
  # Imports customer records exported from the legacy CRM.
  class CustomerCsvImporter
    BATCH_SIZE = 1_000
    REQUIRED_HEADERS = %w[external_id email name].freeze

    Result = Struct.new(:imported, :skipped, keyword_init: true)

    def initialize(path, repository:, logger:)
      @path = path
      @repository = repository
      @logger = logger
    end

    def call
      rows = CSV.parse(File.read(@path), headers: true)
      check_headers!(rows.headers)

      skipped = 0
      valid = rows.select do |row|
        ok = valid?(row)
        skipped += 1 unless ok
        ok
      end

      imported = 0
      valid.each_slice(BATCH_SIZE) do |batch|
        @repository.upsert_all(batch.map { |row| attributes_for(row) })
        imported += batch.size
      end

      @logger.info("imported #{imported} customers, skipped #{skipped}")
      Result.new(imported: imported, skipped: skipped)
    end

    private

    def check_headers!(headers)
      missing = REQUIRED_HEADERS - headers
      raise ArgumentError, "missing columns: #{missing.join(', ')}" if missing.any?
    end

    def valid?(row)
      row["external_id"].to_s.strip != "" && row["email"].to_s.include?("@")
    end

    def attributes_for(row)
      {
        external_id: row["external_id"].strip,
        email: row["email"].strip.downcase,
        name: row["name"].to_s.strip,
        phone: row["phone"]&.gsub(/[^\d+]/, "")
      }
    end
  end
end
