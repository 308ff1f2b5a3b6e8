/* safetensors reader (lib/io/safetensors.c): the container of weights files and
 * checkpoints. A file that reads is then taken as aecl reads a weights file:
 * its aecl.model metadata through the model-file parser. */
#include "fuzz_file.h"
#include "io/io.h"
#include "nn/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aecl_safetensors st;
    if (aecl_safetensors_read(NULL, fuzz_file(data, size), &st) != AECL_OK) return 0;
    const char *text = aecl_safetensors_meta(&st, "aecl.model");
    aecl_model_spec *spec = NULL;
    if (text && aecl_spec_parse_string(NULL, text, "fuzz.st", &spec) == AECL_OK) aecl_spec_free(spec);
    for (size_t i = 0; i < st.n_tensors; i++) (void)aecl_safetensors_find(&st, st.tensors[i].name);
    aecl_safetensors_free(&st);
    return 0;
}
