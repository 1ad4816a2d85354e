"""One package per publishing route, and what the engine may ask of each.

`base` holds the publisher protocol and its request/receipt types, `spec` the
`RouteSpec` protocol of optional capabilities, `registry` the list of routes.
"""
