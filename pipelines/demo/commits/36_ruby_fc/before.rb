# frozen_string_literal: true

module Accounts
  # Builds the JSON payload for the public profile page.
  class ProfilePresenter
    AVATAR_SIZES = { small: 48, large: 256 }.freeze

    def initialize(user, viewer: nil)
      @user = user
      @viewer = viewer
    end

    def as_json(*)
      {
        id: @user.id,
        handle: @user.handle,
        display_name: display_name,
        bio: @user.profile.bio.strip,
        location: @user.profile.location,
        avatar_url: avatar_url(:large),
        member_since: @user.created_at.year,
        email: visible_email
      }
    end

    private

    def display_name
      name = @user.profile.display_name
      name.empty? ? @user.handle : name
    end

    def avatar_url(size)
      pixels = AVATAR_SIZES.fetch(size)
      "#{@user.profile.avatar_base_url}?s=#{pixels}"
    end

    def visible_email
      return @user.email if @viewer == @user
      return @user.email if @user.profile.show_email

      nil
    end
  end
end
