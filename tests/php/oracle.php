<?php
// emoncrypt — the PHP side of the differential test (tests/test_php_differential.c).
//
// Reads one operation per line from stdin and prints one result per line,
// using the very PHP functions Emoncms's encrypted-input path calls, so the
// C harness's "compat" behaviour is checked against the real engine rather
// than against our reading of it.  Every field is hex so no byte is lost.
//
//   b64 IN                 -> hex(base64_decode(url->std(IN)))      (non-strict)
//   dec KEY DATA           -> hex(plaintext) or F  (IV = first 16 bytes, as Emoncms splits it)
//   mac KEY DATA GIVEN     -> T/F  hash_equals(GIVEN, hash_hmac(sha256, DATA, KEY))
//   split S                -> hexkey=hexval,... after Emoncms's explode('&') / explode('=')
//   ack DATA               -> base64url(sha256(DATA)) with '=' kept
error_reporting(0);
$in = fopen('php://stdin', 'r');
while (($line = fgets($in)) !== false) {
    $f = explode(' ', rtrim($line, "\n"));
    $arg = function ($i) use ($f) { return isset($f[$i]) ? hex2bin($f[$i]) : ''; };
    switch ($f[0]) {
    case 'b64':
        $out = base64_decode(str_replace(array('-', '_'), array('+', '/'), $arg(1)));
        echo $out === false ? "F\n" : 'H' . bin2hex($out) . "\n";
        break;
    case 'dec':
        $data = $arg(2);
        $pt = @openssl_decrypt(substr($data, 16), 'AES-128-CBC', $arg(1), OPENSSL_RAW_DATA, substr($data, 0, 16));
        echo $pt === false ? "F\n" : 'H' . bin2hex($pt) . "\n";
        break;
    case 'mac':
        $mac = hash_hmac('sha256', $arg(2), $arg(1));
        echo hash_equals($arg(3), $mac) ? "T\n" : "F\n";
        break;
    case 'split':
        $params = array();
        foreach (explode('&', $arg(1)) as $chunk) {
            $p = explode('=', $chunk);
            if (count($p) == 2) {
                $params[$p[0]] = $p[1];
            }
        }
        $parts = array();
        foreach ($params as $k => $v) {
            $parts[] = bin2hex((string)$k) . '=' . bin2hex($v);
        }
        echo 'P' . implode(',', $parts) . "\n";
        break;
    case 'ack':
        echo str_replace(array('+', '/'), array('-', '_'), base64_encode(hash('sha256', $arg(1), true))) . "\n";
        break;
    default:
        echo "?\n";
    }
}
