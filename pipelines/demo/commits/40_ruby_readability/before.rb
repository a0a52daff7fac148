# frozen_string_literal: true

module Notifications
  # Builds the plain-text weekly activity digest e-mail.
  class DigestBuilder
    def initialize(user, events, now: Time.now)
      @user = user
      @events = events
      @now = now
    end

    def build
      out = +""
      out << "Hi #{@user.first_name},\n\n"
      recent = @events.select { |e| e.created_at > @now - 604_800 }
      if recent.empty?
        out << "No new activity this week.\n"
      else
        groups = recent.group_by(&:kind)
        if groups["comment"]
          out << "Comments (#{groups['comment'].size}):\n"
          groups["comment"].first(5).each { |e| out << "  - #{e.actor} on #{e.subject}\n" }
          out << "  ...and #{groups['comment'].size - 5} more\n" if groups["comment"].size > 5
        end
        if groups["mention"]
          out << "Mentions (#{groups['mention'].size}):\n"
          groups["mention"].first(5).each { |e| out << "  - #{e.actor} on #{e.subject}\n" }
          out << "  ...and #{groups['mention'].size - 5} more\n" if groups["mention"].size > 5
        end
        if groups["follow"]
          out << "New followers (#{groups['follow'].size}):\n"
          groups["follow"].first(5).each { |e| out << "  - #{e.actor}\n" }
          out << "  ...and #{groups['follow'].size - 5} more\n" if groups["follow"].size > 5
        end
      end
      out << "\nManage e-mail preferences: #{@user.preferences_url}\n"
      out
    end
  end
end
