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
            boolean startsInside = !checkIn.isBefore(stay.checkIn())
                    && !checkIn.isAfter(stay.checkOut());
            boolean endsInside = !checkOut.isBefore(stay.checkIn())
                    && !checkOut.isAfter(stay.checkOut());
            if (startsInside || endsInside) {
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
