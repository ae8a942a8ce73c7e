;; A plain component (nothing nested) with a provenance section written by hand.
(component
  (@custom "airlock-provenance" "{\"tool\":\"airlock 0.1.0\",\"components\":[{\"name\":\"stats\",\"package\":\"airlock:stats@0.1.0\",\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}],\"policy\":{\"allow\":[],\"instances\":{\"stats\":{}}}}")
)
