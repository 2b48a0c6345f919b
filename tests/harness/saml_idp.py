"""A SAML identity provider for tests: signed SAMLResponses granting AWS roles.

The assertion is signed (RSA-SHA256, enveloped) with a key and self-signed certificate made
at start; `verify()` checks a response the way AWS does before trusting its Role attribute.
"""

from __future__ import annotations

import base64
import datetime
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner, XMLVerifier

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
PRINCIPAL = "arn:aws:iam::123456789012:saml-provider/corp"
_P = "urn:oasis:names:tc:SAML:2.0:protocol"
_A = "urn:oasis:names:tc:SAML:2.0:assertion"


class SamlIdp:
    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cred-export test IdP")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def response(self, roles: list[str], user: str = "alice@example.com") -> str:
        """A base64 SAMLResponse whose signed assertion grants `roles` (role ARNs)."""
        values = [f"{role},{PRINCIPAL}" for role in roles]
        assertion = self._signed_assertion(values, user)
        response = etree.Element(
            f"{{{_P}}}Response",
            nsmap={"samlp": _P, "saml": _A},
            ID=f"_{uuid.uuid4().hex}",
            Version="2.0",
            IssueInstant=_now(),
        )
        response.append(assertion)
        return base64.b64encode(etree.tostring(response)).decode()

    def _signed_assertion(self, role_values: list[str], user: str) -> etree._Element:
        assertion = etree.Element(
            f"{{{_A}}}Assertion",
            nsmap={"saml": _A},
            ID=f"_{uuid.uuid4().hex}",
            Version="2.0",
            IssueInstant=_now(),
        )
        etree.SubElement(assertion, f"{{{_A}}}Issuer").text = "https://idp.example.com"
        statement = etree.SubElement(assertion, f"{{{_A}}}AttributeStatement")
        for name, values in ((SESSION_ATTRIBUTE, [user]), (ROLE_ATTRIBUTE, role_values)):
            attribute = etree.SubElement(statement, f"{{{_A}}}Attribute", Name=name)
            for value in values:
                etree.SubElement(attribute, f"{{{_A}}}AttributeValue").text = value
        key_pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Exclusive c14n: the digest must not change when the assertion moves into the Response.
        signer = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        return signer.sign(assertion, key=key_pem, cert=self.certificate_pem.decode())


def verify(response_b64: str, certificate_pem: bytes) -> etree._Element:
    """The signed assertion of a SAMLResponse; raises if the signature does not hold."""
    document = etree.fromstring(base64.b64decode(response_b64))
    assertion = document.find(f"{{{_A}}}Assertion")
    if assertion is None:
        raise ValueError("no assertion")
    return XMLVerifier().verify(assertion, x509_cert=certificate_pem.decode()).signed_xml


def granted_roles(assertion: etree._Element) -> list[str]:
    return [
        value.text or ""
        for attribute in assertion.iter(f"{{{_A}}}Attribute")
        if attribute.get("Name") == ROLE_ATTRIBUTE
        for value in attribute.iter(f"{{{_A}}}AttributeValue")
    ]


def single_role_response(response_b64: str, role_value: str) -> str:
    """The same response with only one Role value (moto answers 500 to multi-valued ones)."""
    document = etree.fromstring(base64.b64decode(response_b64))
    for attribute in document.iter(f"{{{_A}}}Attribute"):
        if attribute.get("Name") == ROLE_ATTRIBUTE:
            for value in list(attribute):
                if value.text != role_value:
                    attribute.remove(value)
    return base64.b64encode(etree.tostring(document)).decode()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
