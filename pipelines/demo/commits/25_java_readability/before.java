package com.acme.shipping;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Quotes shipping costs shown at checkout. */
public class ShippingCalculator {

    public BigDecimal calculate(double w, String c, boolean e) {
        BigDecimal r;
        if (c.equals("US")) {
            r = new BigDecimal("4.99");
            if (w > 2.0) {
                r = r.add(BigDecimal.valueOf(Math.ceil(w - 2.0)).multiply(new BigDecimal("1.25")));
            }
        } else if (c.equals("CA") || c.equals("MX")) {
            r = new BigDecimal("9.99");
            if (w > 2.0) {
                r = r.add(BigDecimal.valueOf(Math.ceil(w - 2.0)).multiply(new BigDecimal("2.50")));
            }
        } else {
            r = new BigDecimal("19.99");
            if (w > 2.0) {
                r = r.add(BigDecimal.valueOf(Math.ceil(w - 2.0)).multiply(new BigDecimal("4.00")));
            }
        }
        if (e) {
            r = r.multiply(new BigDecimal("1.5"));
        }
        return r.setScale(2, RoundingMode.HALF_UP);
    }
}
