package com.acme.shipping;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Quotes shipping costs shown at checkout. */
public class ShippingCalculator {

    /** Weight covered by the base rate; each started kilogram above it is charged. */
    private static final double INCLUDED_WEIGHT_KG = 2.0;
    private static final BigDecimal EXPRESS_MULTIPLIER = new BigDecimal("1.5");

    private enum Zone {
        DOMESTIC("4.99", "1.25"),
        NORTH_AMERICA("9.99", "2.50"),
        INTERNATIONAL("19.99", "4.00");

        final BigDecimal baseRate;
        final BigDecimal ratePerExtraKg;

        Zone(String baseRate, String ratePerExtraKg) {
            this.baseRate = new BigDecimal(baseRate);
            this.ratePerExtraKg = new BigDecimal(ratePerExtraKg);
        }

        static Zone forCountry(String countryCode) {
            switch (countryCode) {
                case "US":
                    return DOMESTIC;
                case "CA":
                case "MX":
                    return NORTH_AMERICA;
                default:
                    return INTERNATIONAL;
            }
        }
    }

    public BigDecimal calculate(double weightKg, String countryCode, boolean express) {
        Zone zone = Zone.forCountry(countryCode);
        BigDecimal cost = zone.baseRate.add(
                BigDecimal.valueOf(extraKilograms(weightKg)).multiply(zone.ratePerExtraKg));
        if (express) {
            cost = cost.multiply(EXPRESS_MULTIPLIER);
        }
        return cost.setScale(2, RoundingMode.HALF_UP);
    }

    private static double extraKilograms(double weightKg) {
        return weightKg > INCLUDED_WEIGHT_KG ? Math.ceil(weightKg - INCLUDED_WEIGHT_KG) : 0;
    }
}
