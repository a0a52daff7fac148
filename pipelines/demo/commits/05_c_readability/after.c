/*
 * frame_decode.c - decode telemetry frames received from field sensors.
 */
#include <stddef.h>
#include <stdint.h>

/* Frame layout: magic, version, id(2), temp(2), humidity(2), battery, xor. */
#define FRAME_MAGIC        0xA5
#define FRAME_VERSION      0x01
#define FRAME_LEN          10
#define OFF_SENSOR_ID      2
#define OFF_TEMPERATURE    4
#define OFF_HUMIDITY       6
#define OFF_BATTERY        8
#define OFF_CHECKSUM       9
#define BATTERY_PCT_MAX    100

enum frame_status {
    FRAME_OK = 0,
    FRAME_TOO_SHORT = -1,
    FRAME_BAD_HEADER = -2,
    FRAME_BAD_CHECKSUM = -3,
};

struct telemetry {
    uint16_t sensor_id;
    int16_t temperature_centi;
    uint16_t humidity_permille;
    uint8_t battery_pct;
};

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    size_t i;

    for (i = 0; i < n; i++)
        sum ^= p[i];
    return sum;
}

static uint16_t read_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/*
 * Decodes one frame into `out`; returns FRAME_OK or the reason for rejection.
 */
enum frame_status decode_frame(const uint8_t *frame, size_t len,
                               struct telemetry *out)
{
    if (len < FRAME_LEN)
        return FRAME_TOO_SHORT;
    if (frame[0] != FRAME_MAGIC || frame[1] != FRAME_VERSION)
        return FRAME_BAD_HEADER;
    if (checksum(frame, OFF_CHECKSUM) != frame[OFF_CHECKSUM])
        return FRAME_BAD_CHECKSUM;

    out->sensor_id = read_be16(frame + OFF_SENSOR_ID);
    out->temperature_centi = (int16_t)read_be16(frame + OFF_TEMPERATURE);
    out->humidity_permille = read_be16(frame + OFF_HUMIDITY);
    out->battery_pct = frame[OFF_BATTERY];
    if (out->battery_pct > BATTERY_PCT_MAX)
        out->battery_pct = BATTERY_PCT_MAX;
    return FRAME_OK;
}
