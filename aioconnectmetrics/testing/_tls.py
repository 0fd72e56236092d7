"""TLS for the fake: a self-signed certificate for the loopback address, made on start.

The real service speaks HTTPS, and its TLS handshake is the connection set-up a client
pays before its first request on a connection reaches the service. With TLS on, the fake
makes that set-up where the client sees it: the server answers the handshake late (see
`_server.py`), so a client that times its connections measures it as the service's
would. The certificate is its own authority: clients verify against ``ca_bundle``.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, in a directory of its own.

    `ca_bundle` is the path to give a client (``verify=``), `key_file` the private key;
    `server_context` serves them.
    `remove` deletes the files.
    """

    def __init__(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aioconnectmetrics fake")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.directory = Path(tempfile.mkdtemp(prefix="aioconnectmetrics-fake-tls-"))
        self.ca_bundle = str(self.directory / "cert.pem")
        self.key_file = str(self.directory / "key.pem")
        Path(self.ca_bundle).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        Path(self.key_file).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        """A server-side context with this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_bundle, self.key_file)
        return context

    def remove(self) -> None:
        """Delete the certificate's files."""
        shutil.rmtree(self.directory, ignore_errors=True)
