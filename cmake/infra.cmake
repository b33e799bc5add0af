# infra: the HTTP client, the mock HTTP server and the reporters.
# Their unit tests talk over loopback with kernel-picked ports and must stay
# quick; a hang (a scripted reply never released) should fail fast, not
# after the default two minutes.
foreach(t unit/test_httpclient_httpd unit/test_report)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES TIMEOUT 30 LABELS "infra")
  endif()
endforeach()
