#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): parses the flags and runs `callback`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// AddressSanitizer's count of live heap bytes (compiler-rt's allocator interface; linked by -sanitize=address).
size_t __sanitizer_get_current_allocated_bytes(void);

#endif
