# frozen_string_literal: true

module Notifications
  # Builds the plain-text weekly activity digest e-mail.
  class DigestBuilder
    DIGEST_PERIOD_SECONDS = 7 * 24 * 60 * 60
    MAX_ITEMS_PER_SECTION = 5

    # Event kind => section title, in the order sections appear.
    SECTIONS = {
      "comment" => "Comments",
      "mention" => "Mentions",
      "follow" => "New followers"
    }.freeze

    def initialize(user, events, now: Time.now)
      @user = user
      @events = events
      @now = now
    end

    def build
      out = +""
      out << "Hi #{@user.first_name},\n\n"
      recent = recent_events
      if recent.empty?
        out << "No new activity this week.\n"
      else
        groups = recent.group_by(&:kind)
        SECTIONS.each do |kind, title|
          render_section(out, title, groups[kind]) if groups[kind]
        end
      end
      out << "\nManage e-mail preferences: #{@user.preferences_url}\n"
      out
    end

    private

    def recent_events
      cutoff = @now - DIGEST_PERIOD_SECONDS
      @events.select { |event| event.created_at > cutoff }
    end

    def render_section(out, title, events)
      out << "#{title} (#{events.size}):\n"
      events.first(MAX_ITEMS_PER_SECTION).each { |event| out << "  - #{describe(event)}\n" }
      hidden = events.size - MAX_ITEMS_PER_SECTION
      out << "  ...and #{hidden} more\n" if hidden.positive?
    end

    def describe(event)
      event.kind == "follow" ? event.actor.to_s : "#{event.actor} on #{event.subject}"
    end
  end
end
