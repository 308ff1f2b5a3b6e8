"""aecl: autoencoders on any OpenCL device, from Python (docs/python.md).

    import aecl
    aecl.devices()                     # the OpenCL devices
    X, y = aecl.read_data("data.csv", label_column="label")   # IDX, CSV, .npy as aecl reads them
    m = aecl.load("model.safetensors") # encode, decode, reconstruct, score_samples, sample, save
    ae = aecl.AutoEncoder(epochs=10).fit(X)
    det = aecl.AnomalyDetector(contamination=0.05).fit(X); det.predict(X_new)

The shared library is found through $AECL_LIBRARY (its path), next to this
package, or on the system's library path.
"""
from ._data import read_data
from ._estimators import AnomalyDetector, AutoEncoder, default_model_text
from ._lib import AeclCanceled, AeclError, AeclIOError, AeclValueError
from ._model import Model, devices, load

__version__ = "0.1.0"


def library_version():
    """The version of the libaecl actually loaded."""
    from ._lib import lib
    return lib.aecl_version_string().decode()


__all__ = ["AnomalyDetector", "AutoEncoder", "AeclCanceled", "AeclError", "AeclIOError", "AeclValueError", "Model",
           "devices", "load", "read_data", "default_model_text", "library_version"]
