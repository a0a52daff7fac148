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
        String csv = String.join(",", HEADER) + "\r\n";
        for (OrderRow row : rows) {
            String line = "";
            line += row.id() + ",";
            line += quote(row.customer()) + ",";
            line += DATE.format(row.placedOn()) + ",";
            line += row.total().toPlainString() + ",";
            line += quote(row.status());
            csv += line + "\r\n";
        }
        return csv;
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
        String escaped = "";
        for (char c : value.toCharArray()) {
            escaped += (c == '"') ? "\"\"" : String.valueOf(c);
        }
        return "\"" + escaped + "\"";
    }
}
