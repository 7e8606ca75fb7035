-- 005_service_url.sql - the URL a service is reached at, as its clients know it: the address
-- of its live service description (the WSDL's soap:address and schema imports).  NULL: the
-- worker builds it from the web server's own name for the virtual host (SERVER_NAME,
-- SERVER_PORT, HTTPS, SCRIPT_NAME), never from the client's Host header.
-- Set with `tsactl service set NAME --url URL`; checked by tsactl and again by the workers at
-- load (http or https, a host, an optional port, a path, nothing else).
ALTER TABLE services ADD COLUMN url text CHECK (length(url) BETWEEN 1 AND 1024);
