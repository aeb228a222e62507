"""The shared network helpers, on real sockets: the options they set are read back from the kernel."""

import socket

from filterd.network import ClientList, no_delay, quick_ack


class Transport:
    """What no_delay asks of an asyncio transport: its socket, or None (a pipe, a test double)."""

    def __init__(self, sock: socket.socket | None = None):
        self.sock = sock

    def get_extra_info(self, name: str):
        return self.sock if name == "socket" else None


def test_tcp_sockets_get_no_delay_and_are_handed_back():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert no_delay(Transport(sock)) is sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_transport_without_a_tcp_socket_is_left_alone():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        assert no_delay(Transport(sock)) is None
    assert no_delay(Transport()) is None


def test_quick_ack_is_set_on_a_connected_socket():
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()) as peer:
        sock, _ = server.accept()
        with sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
            quick_ack(sock)
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 1


def test_a_client_list_matches_networks_and_names_first_item_deciding():
    listed = ClientList.parse(["!192.0.2.1", "192.0.2.0/24", "[2001:db8::]/32", "mail.example", ".example.net"])
    assert not listed.matches("unknown", "192.0.2.1")
    assert listed.matches("unknown", "192.0.2.7") and listed.matches("unknown", "2001:db8::5")
    assert listed.matches("Mail.Example", "198.51.100.1") and not listed.matches("sub.mail.example", "198.51.100.1")
    assert listed.matches("a.example.net", "198.51.100.1") and not listed.matches("example.net", "198.51.100.1")
    assert not ClientList().matches("mail.example", "192.0.2.7")
