'use strict';

/**
 * Minimal query-string helpers shared by the router and the API client.
 */

function decode(component) {
  try {
    return decodeURIComponent(component);
  } catch (err) {
    // Malformed escape sequences are kept verbatim rather than throwing.
    return component;
  }
}

/**
 * Parses "a=1&b=2&b=3" into { a: '1', b: ['2', '3'] }.
 * A leading "?" is ignored.
 */
function parseQuery(query) {
  const result = {};
  const trimmed = query.startsWith('?') ? query.slice(1) : query;

  for (const pair of trimmed.split('&')) {
    const [rawKey, rawValue] = pair.split('=');
    const key = decode(rawKey);
    const value = rawValue === undefined ? '' : decode(rawValue);

    if (Object.prototype.hasOwnProperty.call(result, key)) {
      const existing = result[key];
      result[key] = Array.isArray(existing) ? existing.concat(value) : [existing, value];
    } else {
      result[key] = value;
    }
  }
  return result;
}

/**
 * Serialises an object back into a query string, skipping null/undefined.
 */
function stringifyQuery(params) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`);
    }
  }
  return parts.join('&');
}

module.exports = { parseQuery, stringifyQuery };
