# aecl's Python package: pure Python (ctypes) over libaecl.so. No pyproject.toml on
# purpose: pip then builds with the setuptools already installed (Debian's
# python3-setuptools), so `pip install ./python` needs no network.
from setuptools import setup

setup(
    name="aecl",
    version="0.1.0",
    description="Autoencoders on any OpenCL device: numpy and scikit-learn style bindings of libaecl",
    packages=["aecl"],
    python_requires=">=3.9",
    install_requires=["numpy"],
)
