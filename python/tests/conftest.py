"""The tests run against the build's libaecl.so ($AECL_LIBRARY) and aecl program
($AECL_CLI), on the device the CTest environment pins ($AECL_DEVICE)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
