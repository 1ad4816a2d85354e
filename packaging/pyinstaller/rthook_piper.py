# PyInstaller runtime hook: runs in the frozen app before `piper`'s own code.
from piper_desktop.frozen import prepare_frozen_environment

prepare_frozen_environment()
