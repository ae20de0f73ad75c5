"""Task specifications: task YAML loading and validation (:mod:`.taskspec`, :mod:`.options`), the language
registry (:mod:`.languages`) and low-resource slices and buckets (:mod:`.slices`)."""
