"""The main window's panels: one module per sidebar entry."""
