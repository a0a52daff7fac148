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
      imported = 0
      skipped = 0
      batch = []

      CSV.foreach(@path, headers: true).with_index do |row, index|
        check_headers!(row.headers) if index.zero?
        unless valid?(row)
          skipped += 1
          next
        end

        batch << attributes_for(row)
        imported += flush(batch) if batch.size >= BATCH_SIZE
      end
      imported += flush(batch)

      @logger.info("imported #{imported} customers, skipped #{skipped}")
      Result.new(imported: imported, skipped: skipped)
    end

    private

    # Writes the pending batch, empties it and returns how many rows it held.
    def flush(batch)
      return 0 if batch.empty?

      @repository.upsert_all(batch)
      count = batch.size
      batch.clear
      count
    end

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
