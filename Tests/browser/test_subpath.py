#!/usr/bin/env python3
"""The map page and a region report behind a reverse proxy that serves the app under /civicmap/
(the server started with --public-url http://127.0.0.1:PORT/civicmap/): every request the pages
make must go under the sub-path. Exits 1 on failure."""
import argparse
import http.server
import sys
import threading
import urllib.error
import urllib.request

import test_map as T


def start_proxy(port, app):
    class Proxy(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if not self.path.startswith('/civicmap/'):
                self.send_error(404, 'outside the sub-path: ' + self.path)
                return
            request = urllib.request.Request(app + self.path[len('/civicmap'):],
                                             headers={k: v for k, v in self.headers.items() if k.lower() != 'host'})
            try:
                answer = urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError as e:
                answer = e
            body = answer.read()
            self.send_response(answer.status)
            for k, v in answer.headers.items():
                if k.lower() not in ('transfer-encoding', 'connection', 'content-length'):
                    self.send_header(k, v)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--app', required=True, help='the server, e.g. http://127.0.0.1:8080')
    parser.add_argument('--port', type=int, required=True, help='the proxy port named in --public-url')
    args = parser.parse_args()
    proxy = start_proxy(args.port, args.app.rstrip('/'))
    base = 'http://127.0.0.1:%d/civicmap' % args.port
    driver = T.make_driver()
    try:
        driver.get(base + '/?lang=ru')
        T.wait(driver, lambda d: (T.legend_numbers(d) or {}).get('total', 0) > 0 and T.idle(d), message='legend')
        T.check('sub-path: the map loads its data through /civicmap/', True)
        href = driver.execute_script("return (document.querySelector('a[href*=\"export/organizations.geojson\"]') || {}).getAttribute('href')")
        T.check('sub-path: export links lie under /civicmap/', (href or '').startswith('/civicmap/export/'), href)
        driver.get(base + '/reports/regions/RU-PER')
        T.wait(driver, lambda d: T.report_state(d) == 'idle', message='report')
        T.check('sub-path: the region report loads', T.report_totals(driver).get('organizations') == '3', T.report_totals(driver))
        errors = [e for e in T.severe_errors(driver) if '/civicmap/' in e or '127.0.0.1:%d/' % args.port in e]
        T.check('sub-path: no request outside /civicmap/ and none failed', not errors, errors[:3])
    finally:
        driver.quit()
        proxy.shutdown()
    passed, failed = T.results.count(True), T.results.count(False)
    print('sub-path: %d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


if __name__ == '__main__':
    main()
