"""Mock-server tests of the Harvest source: the connector runs as the platform runs it, against HttpMocker.

- config.py            ConfigBuilder: a valid config, changed only where a test says so
- request_builder.py   HarvestRequest.<endpoint>() + with_*(): the exact request (path, full query, headers)
- response_builder.py  HarvestResponse / HarvestRecord over ../resource/http/response/<stream>.json (Harvest's
                       documented examples); HarvestNextLink writes `links.next`; ErrorResponse for 401/403/404/429/5xx
- helpers.py           given_*(): parent reads of the child streams; child_state(); request-log and header
                       assertions
- source.py            builds the source from manifest.yaml (parsed once per session) and reads it
- conftest.py          http_mocker (every mock must be used), fake_sleep (waits move a frozen clock)
- test_entity_streams.py   the behaviour every entity stream shares, over one table
- test_<behaviour>.py      one file per unusual behaviour (roles, reports, children, host guard, errors, OAuth,
                           1.2.x state, deleted records: entity lists, children, the time-entry and expense
                           history)
"""
