"""diffusiond for Krita: a docker panel and a scripting API (diffusiond_krita.api).

Inside Krita this package registers the docker; outside Krita (the core's unit tests) importing it does nothing,
so `diffusiond_krita.core` stays plain Python."""
try:
    import krita as _krita
except ImportError:  # not inside Krita
    _krita = None

if _krita is not None and not getattr(_krita, "_diffusiond_krita_registered", False):
    _krita._diffusiond_krita_registered = True
    from .docker import register as _register
    _register()
