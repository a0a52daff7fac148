package com.acme.booking;

import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/** Tracks confirmed reservations for a single room. */
public final class ReservationCalendar {

    /** A stay from check-in (inclusive) to check-out (exclusive). */
    public record Stay(String guestId, LocalDate checkIn, LocalDate checkOut) {
        public Stay {
            Objects.requireNonNull(guestId, "guestId");
            Objects.requireNonNull(checkIn, "checkIn");
            Objects.requireNonNull(checkOut, "checkOut");
            if (!checkOut.isAfter(checkIn)) {
                throw new IllegalArgumentException("check-out must be after check-in");
            }
        }

        public long nights() {
            return ChronoUnit.DAYS.between(checkIn, checkOut);
        }
    }

    private final List<Stay> stays = new ArrayList<>();

    public boolean isAvailable(LocalDate checkIn, LocalDate checkOut) {
        for (Stay stay : stays) {
            // Half-open intervals [checkIn, checkOut) overlap iff each starts
            // before the other ends; a shared check-out/check-in day is fine.
            boolean overlaps = checkIn.isBefore(stay.checkOut())
                    && stay.checkIn().isBefore(checkOut);
            if (overlaps) {
                return false;
            }
        }
        return true;
    }

    public void book(Stay stay) {
        if (!isAvailable(stay.checkIn(), stay.checkOut())) {
            throw new IllegalStateException(
                    "room already booked between " + stay.checkIn() + " and " + stay.checkOut());
        }
        stays.add(stay);
    }

    public List<Stay> stays() {
        return Collections.unmodifiableList(stays);
    }
}
