;; A component whose provenance section is not JSON: a warning, not a failure.
(component
  (@custom "airlock-provenance" "not json")
)
