package com.acme.export;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** Renders order history as RFC 4180 CSV for the account download page. */
public final class OrderCsvExporter {

    private static final DateTimeFormatter DATE = DateTimeFormatter.ISO_LOCAL_DATE;
    private static final String[] HEADER = {"order_id", "customer", "placed_on", "total", "status"};

    public record OrderRow(long id, String customer, LocalDate placedOn, BigDecimal total, String status) {
    }

    public String export(List<OrderRow> rows) {
        StringBuilder csv = new StringBuilder(64 * (rows.size() + 1));
        csv.append(String.join(",", HEADER)).append("\r\n");
        for (OrderRow row : rows) {
            csv.append(row.id()).append(',')
               .append(quote(row.customer())).append(',')
               .append(DATE.format(row.placedOn())).append(',')
               .append(row.total().toPlainString()).append(',')
               .append(quote(row.status()))
               .append("\r\n");
        }
        return csv.toString();
    }

    static String quote(String value) {
        if (value == null) {
            return "";
        }
        boolean needsQuotes = value.indexOf(',') >= 0
                || value.indexOf('"') >= 0
                || value.indexOf('\n') >= 0
                || value.indexOf('\r') >= 0;
        if (!needsQuotes) {
            return value;
        }
        return "\"" + value.replace("\"", "\"\"") + "\"";
    }
}
