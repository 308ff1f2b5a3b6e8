/* CSV reader (lib/io/csv.c): detected separator and header, then a label column
 * by index and by name, and a forced header. */
#include "fuzz_file.h"
#include "io/io.h"

static void read_with(const char *p, aecl_csv_opts o)
{
    aecl_csv c;
    aecl_csv_read(NULL, p, &o, &c);
    aecl_csv_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_file(data, size);
    read_with(p, (aecl_csv_opts){0});
    read_with(p, (aecl_csv_opts){.has_label = 1, .label_index = -1});
    read_with(p, (aecl_csv_opts){.label_name = "label"});
    read_with(p, (aecl_csv_opts){.header = AECL_CSV_HEADER_YES, .sep = ';'});
    return 0;
}
