package com.acme.reports;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Bundles generated report files into a single zip for download. */
public class ReportArchiver {

    private final Path reportDir;

    public ReportArchiver(Path reportDir) {
        this.reportDir = reportDir;
    }

    /**
     * Writes {@code <bundleName>.zip} next to the reports and returns its path.
     *
     * @throws IOException if a report is missing or cannot be read
     */
    public Path archive(String bundleName, List<String> reportNames) throws IOException {
        Path target = reportDir.resolve(bundleName + ".zip");
        try (ZipOutputStream zip = new ZipOutputStream(new FileOutputStream(target.toFile()))) {
            for (String name : reportNames) {
                Path source = reportDir.resolve(name);
                if (!Files.isRegularFile(source)) {
                    throw new IOException("missing report: " + name);
                }
                ZipEntry entry = new ZipEntry(name);
                entry.setTime(Files.getLastModifiedTime(source).toMillis());
                zip.putNextEntry(entry);
                try (InputStream in = Files.newInputStream(source)) {
                    in.transferTo(zip);
                }
                zip.closeEntry();
            }
        }
        return target;
    }

    public long totalSize(List<String> reportNames) throws IOException {
        long total = 0;
        for (String name : reportNames) {
            total += Files.size(reportDir.resolve(name));
        }
        return total;
    }
}
