"""The desktop application (the only package that imports Qt)."""

from .qtfix import install as _install_qt_fixes

_install_qt_fixes()
