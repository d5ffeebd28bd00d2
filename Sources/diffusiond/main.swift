import CBLAS
print(String(cString: openblas_get_corename()))
