/* Model-file parser (lib/nn/spec_parse.c and the checks after it). A spec that
 * parses must print to text that parses to an equal spec (aecl_spec_print's
 * promise, which weights files rely on: they store the printed text). */
#include "nn/spec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    aecl_model_spec *spec = NULL, *again = NULL;
    char *printed = NULL;
    if (aecl_spec_parse_string(NULL, text, "fuzz.model", &spec) == AECL_OK &&
        aecl_spec_print(spec, &printed) == AECL_OK) {
        if (aecl_spec_parse_string(NULL, printed, "printed", &again) != AECL_OK || !aecl_spec_equal(spec, again))
            abort();   /* the printed text does not read back as the same model */
    }
    aecl_spec_free(again);
    free(printed);
    aecl_spec_free(spec);
    free(text);
    return 0;
}
