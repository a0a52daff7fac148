/*
 * frame_decode.c - decode telemetry frames received from field sensors.
 */
#include <stddef.h>
#include <stdint.h>

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

/*
 * Returns 0 on success, or a negative value if the frame is rejected.
 */
int decode_frame(const uint8_t *p, size_t n, struct telemetry *out)
{
    if (n < 10)
        return -1;
    if (p[0] != 0xA5 || p[1] != 0x01)
        return -2;
    if (checksum(p, 9) != p[9])
        return -3;

    out->sensor_id = (uint16_t)((p[2] << 8) | p[3]);
    out->temperature_centi = (int16_t)((p[4] << 8) | p[5]);
    out->humidity_permille = (uint16_t)((p[6] << 8) | p[7]);
    out->battery_pct = p[8];
    if (out->battery_pct > 100)
        out->battery_pct = 100;
    return 0;
}
