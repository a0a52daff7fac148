package com.acme.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Issues and verifies single-use account recovery tokens. */
public class ResetTokenService {

    private static final Duration TOKEN_TTL = Duration.ofMinutes(30);
    private static final String ALPHABET =
            "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static final int TOKEN_LENGTH = 32;

    private record Pending(String token, Instant expiresAt) {
    }

    private final Map<String, Pending> pendingByUser = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final Clock clock;

    public ResetTokenService(Clock clock) {
        this.clock = clock;
    }

    public String issue(String userId) {
        StringBuilder token = new StringBuilder(TOKEN_LENGTH);
        for (int i = 0; i < TOKEN_LENGTH; i++) {
            token.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        pendingByUser.put(userId, new Pending(token.toString(), clock.instant().plus(TOKEN_TTL)));
        return token.toString();
    }

    /** Returns true and consumes the token if it matches and has not expired. */
    public boolean verify(String userId, String presented) {
        Pending pending = pendingByUser.get(userId);
        if (pending == null || presented == null) {
            return false;
        }
        if (clock.instant().isAfter(pending.expiresAt())) {
            pendingByUser.remove(userId);
            return false;
        }
        byte[] expected = pending.token().getBytes(StandardCharsets.UTF_8);
        byte[] actual = presented.getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(expected, actual)) {
            return false;
        }
        return pendingByUser.remove(userId, pending);
    }
}
