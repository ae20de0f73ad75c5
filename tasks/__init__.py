"""Task definitions as YAML files (see README: "Task files"). This package only ships the data files."""
