"""The one place that names the Qt binding (PyQt5 in Krita 5; Krita 6 moves to PyQt6): the rest of the
plug-in imports Qt from here."""
try:
    from PyQt5 import QtCore, QtGui, QtNetwork, QtWidgets  # noqa: F401
    from PyQt5.QtCore import pyqtSignal as Signal  # noqa: F401
    QT_BINDING = "PyQt5"
except ImportError:  # pragma: no cover - Krita 6
    from PyQt6 import QtCore, QtGui, QtNetwork, QtWidgets  # noqa: F401
    from PyQt6.QtCore import pyqtSignal as Signal  # noqa: F401
    QT_BINDING = "PyQt6"
