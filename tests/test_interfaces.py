"""mynetworks as mynetworks_style makes it from the machine's own addresses (Postfix's mynetworks.c)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from filterd.config import Config, ConfigError
from filterd.interfaces import local_interfaces, mynetworks, own_interfaces, protocol_families
from filterd.parameters import CORE_PARAMETERS

OWN = [(ipaddress.ip_address("127.0.0.1"), 8), (ipaddress.ip_address("172.16.5.9"), 24),
       (ipaddress.ip_address("10.1.2.3"), 16), (ipaddress.ip_address("192.168.7.7"), 22),
       (ipaddress.ip_address("224.0.0.1"), 32), (ipaddress.ip_address("::1"), 128),
       (ipaddress.ip_address("2001:db8::5"), 48), (ipaddress.ip_address("fd00::2"), 64),
       (ipaddress.ip_address("fd00::3"), 64)]


def test_host_style_is_each_address_alone():
    assert mynetworks("host", OWN) == ("127.0.0.1/32 172.16.5.9/32 10.1.2.3/32 192.168.7.7/32 224.0.0.1/32 "
                                       "[::1]/128 [2001:db8::5]/128 [fd00::2]/128 [fd00::3]/128")


def test_subnet_style_is_each_interface_s_network_once():
    assert mynetworks("subnet", OWN) == ("127.0.0.0/8 172.16.5.0/24 10.1.0.0/16 192.168.4.0/22 224.0.0.1/32 "
                                         "[::1]/128 [2001:db8::]/48 [fd00::]/64")


def test_class_style_is_the_natural_network_and_ipv6_s_subnet():
    assert mynetworks("class", OWN) == ("127.0.0.0/8 172.16.0.0/16 10.0.0.0/8 192.168.7.0/24 224.0.0.0/4 "
                                        "[::1]/128 [2001:db8::]/48 [fd00::]/64")
    with pytest.raises(ValueError, match="unknown address class: 240.0.0.1"):
        mynetworks("class", [(ipaddress.ip_address("240.0.0.1"), 8)])


def test_a_style_postfix_does_not_know_is_refused():
    with pytest.raises(ValueError, match='unknown mynetworks mask style value "bogus"'):
        mynetworks("bogus", OWN)


def test_the_machine_s_interfaces_include_its_loopback():
    found = local_interfaces()
    assert (ipaddress.ip_address("127.0.0.1"), 8) in found
    assert [address.version for address, _ in found] == sorted(address.version for address, _ in found)
    assert protocol_families(["ipv6"]) == [socket.AF_INET6]
    assert protocol_families(["all"]) == [socket.AF_INET, socket.AF_INET6]


def test_listed_interfaces_are_sorted_unique_and_must_be_the_machine_s():
    assert own_interfaces(["127.0.0.1", "localhost", "[127.0.0.1]"], ["ipv4"]) == [
        (ipaddress.ip_address("127.0.0.1"), 8)]
    with pytest.raises(ValueError, match="no local interface found for 192.0.2.254"):
        own_interfaces(["192.0.2.254"], ["all"])
    with pytest.raises(ValueError, match="host not found: nonexistent.invalid"):
        own_interfaces(["nonexistent.invalid"], ["all"])


def test_an_unset_mynetworks_is_computed_and_a_set_one_is_not():
    assert Config([("mynetworks_style", "subnet", 1), ("inet_interfaces", "127.0.0.1", 2)],
                  CORE_PARAMETERS).get("mynetworks") == "127.0.0.0/8"
    assert Config([("mynetworks", "10.0.0.0/8", 1), ("inet_interfaces", "192.0.2.254", 2)],
                  CORE_PARAMETERS).get("mynetworks") == "10.0.0.0/8"
    with pytest.raises(ConfigError, match=r"main.cf:2: inet_interfaces: no local interface found for 192.0.2.254"):
        Config([("mynetworks_style", "host", 1), ("inet_interfaces", "192.0.2.254", 2)],
               CORE_PARAMETERS).get("mynetworks")
