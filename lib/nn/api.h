/* Internals of the public training and data calls (api_data.c, api_train.c,
 * api_model.c): the handles behind aecl_data and aecl_training. */
#ifndef AECL_NN_API_H
#define AECL_NN_API_H

#include "aecl.h"
#include "nn/app.h"
#include "nn/train.h"

struct aecl_data {
    aecl_ctx *ctx;
    aecl_dataset d;
    char *name;               /* the file read ("an array" when NULL): for the weights file's summary */
};

/* The name of a data set in metadata: its file, or "an array". */
const char *aecl_data_name(const aecl_data *d);
/* 1 for a CSV file name (*.csv, *.csv.gz, any case of the extension). */
int aecl_data_is_csv(const char *path);

/* 1 for the keys a weights file writes from the model itself (aecl_weights_save_meta:
 * aecl.model, aecl.scaling, aecl.version, aecl.noise): not the caller's to set. */
int aecl_meta_key_is_models(const char *key);
/* A model of a training's result (copies of spec, weights, scaling and the
 * metadata a weights file of it would hold): aecl_training_model. */
aecl_status aecl_model_from_result(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights,
                                   const aecl_scaling *scaling, const char *const *extra, size_t n_extra,
                                   aecl_model **out);

#endif
