# frozen_string_literal: true

module Accounts
  # Builds the JSON payload for the public profile page.
  class ProfilePresenter
    AVATAR_SIZES = { small: 48, large: 256 }.freeze
    DEFAULT_AVATAR_BASE_URL = "/assets/avatars/default.png"

    def initialize(user, viewer: nil)
      @user = user
      @viewer = viewer
    end

    def as_json(*)
      {
        id: @user.id,
        handle: @user.handle,
        display_name: display_name,
        bio: profile ? profile.bio.to_s.strip : "",
        location: profile&.location,
        avatar_url: avatar_url(:large),
        member_since: @user.created_at.year,
        email: visible_email
      }
    end

    private

    # Users created before profiles were introduced have no profile record.
    def profile
      @user.profile
    end

    def display_name
      name = profile ? profile.display_name.to_s.strip : ""
      name.empty? ? @user.handle : name
    end

    def avatar_url(size)
      pixels = AVATAR_SIZES.fetch(size)
      base = profile&.avatar_base_url || DEFAULT_AVATAR_BASE_URL
      "#{base}?s=#{pixels}"
    end

    def visible_email
      return @user.email if @viewer == @user
      return @user.email if profile&.show_email

      nil
    end
  end
end
