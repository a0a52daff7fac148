# frozen_string_literal: true

require "date"
require "yaml"

module Imports
  # Loads the import profiles tenants upload to describe their spreadsheet layout.
  class ProfileLoader
    class InvalidProfile < StandardError; end

    MAX_BYTES = 256 * 1024
    REQUIRED_KEYS = %w[name columns].freeze

    def initialize(io)
      @io = io
    end

    def load
      text = @io.read(MAX_BYTES + 1)
      raise InvalidProfile, "profile is empty" if text.nil? || text.strip.empty?
      raise InvalidProfile, "profile exceeds #{MAX_BYTES} bytes" if text.bytesize > MAX_BYTES

      data = parse(text)
      validate!(data)
      normalise(data)
    end

    private

    # Profiles come from tenants, so only plain data types are allowed. Aliases
    # are permitted because existing profiles share column blocks via anchors.
    def parse(text)
      YAML.safe_load(text, permitted_classes: [Date], aliases: true)
    rescue Psych::SyntaxError, Psych::DisallowedClass => e
      raise InvalidProfile, "invalid YAML: #{e.message}"
    end

    def validate!(data)
      raise InvalidProfile, "profile must be a mapping" unless data.is_a?(Hash)

      missing = REQUIRED_KEYS.reject { |key| data.key?(key) }
      raise InvalidProfile, "missing keys: #{missing.join(', ')}" unless missing.empty?
      raise InvalidProfile, "columns must be a list" unless data["columns"].is_a?(Array)
    end

    def normalise(data)
      {
        name: data["name"].to_s,
        effective_from: data["effective_from"],
        columns: data["columns"].map do |column|
          { source: column.fetch("source").to_s, target: column.fetch("target").to_s }
        end
      }
    end
  end
end
