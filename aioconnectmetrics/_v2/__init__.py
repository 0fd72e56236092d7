"""GetMetricDataV2: the request checked, planned into calls, fetched, merged, rendered.

Private, like its modules: the public names are re-exported by ``aioconnectmetrics``.
`model` and `catalog` are the foundation (metrics, filters, groupings), `request`,
`build`, `plan`, `merge` and `result` pure, `fetch` the runtime path, `client` the
facade's methods.
"""
