/* crc32c.h: CRC-32C (Castagnoli, the iSCSI and ext4 polynomial), the checksum of every journal
 * record: cheap enough to compute per record at hundreds of thousands of records a second. */
#ifndef DRP_CRC32C_H
#define DRP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of data[0..len) continued from crc: start with 0, and feed the result back in to
 * checksum data given in pieces (crc32c(crc32c(0, a, n), b, m) is the CRC of a then b).
 * crc32c(0, "123456789", 9) == 0xE3069283. Thread-safe. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);
/* crc as the 8 lowercase hex digits that prefix a journal record or an effects.log line (out is not
 * terminated). */
void crc32c_hex(char out[8], uint32_t crc);

#endif
