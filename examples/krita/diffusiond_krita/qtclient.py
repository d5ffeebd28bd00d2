"""One job on a QLocalSocket, driven by Qt signals on the GUI thread: nothing here blocks.

The protocol is core.Job's; this class only moves bytes. Cancel sends `cancel` for the job on its connection
(the daemon answers the job with -32800 at its next step); if the daemon stays silent the connection is
aborted, which cancels the job as well."""
from . import core
from .qt import QtCore, QtNetwork, Signal

CANCEL_GRACE_MS = 10000


class QtJob(QtCore.QObject):
    """Emits notified(kind, value) for queued/started/progress/fallback, then finished(result, error) once."""

    notified = Signal(str, object)  # not "event": that would shadow QObject.event()
    finished = Signal(object, object)

    def __init__(self, socket_path, request=None, method=None, params=None, parent=None):
        super().__init__(parent)
        self.socket_path = socket_path
        self.request = request
        self.method = method if request is None else request.method
        self.params = params
        self.workspace = None
        self.job = None
        self.sock = None
        self.lines = None
        self._done = False
        self._grace = None

    # -- start / retry

    def start(self):
        if self.request is not None:
            self.workspace = core.Workspace()
            try:
                params = self.request.build(self.workspace)
            except OSError as error:
                return self._finish(None, core.DiffusiondError(None, "diffusiond: cannot write the image: %s" % error))
        else:
            params = self.params
        self._open(params)

    def _open(self, params):
        self.job = core.Job(self.method, params)
        self.lines = core.LineBuffer()
        self.sock = QtNetwork.QLocalSocket(self)
        self.sock.connected.connect(self._on_connected)
        self.sock.readyRead.connect(self._on_ready_read)
        self.sock.disconnected.connect(self._on_disconnected)
        self._error_signal = getattr(self.sock, "errorOccurred", None) or self.sock.error
        self._error_signal.connect(self._on_error)
        self.sock.connectToServer(self.socket_path)

    def _drop_socket(self):
        if self.sock is not None:
            sock, self.sock = self.sock, None
            for sig in (sock.connected, sock.readyRead, sock.disconnected, self._error_signal):
                try:
                    sig.disconnect()
                except TypeError:
                    pass
            sock.abort()
            sock.deleteLater()

    # -- socket signals

    def _on_connected(self):
        self.sock.write(self.job.request_bytes())
        self.sock.flush()

    def _on_ready_read(self):
        sock = self.sock
        if sock is None:
            return
        try:
            messages = self.lines.feed(bytes(sock.readAll()))
        except core.DiffusiondError as error:
            return self._finish(None, error)
        for message in messages:
            for kind, value in self.job.handle(message):
                if kind == "result":
                    return self._finish(value, None)
                if kind == "error":
                    if (value.code == core.PATH_NOT_ALLOWED and self.request is not None
                            and not self.request.inline and not self.job.cancel_requested):
                        self.notified.emit("fallback", "the daemon refuses file paths (--allow-dir): sending the images inline")
                        self._drop_socket()
                        return self._open(self.request.build(self.workspace, inline=True))
                    return self._finish(None, value)
                self.notified.emit(kind, value)

    def _on_error(self, error):
        if self._done or self.sock is None:
            return
        S = QtNetwork.QLocalSocket
        if error in (S.ServerNotFoundError, S.ConnectionRefusedError, S.SocketAccessError):
            self._finish(None, core.DaemonNotRunning(self.socket_path, self.sock.errorString()))
        elif error == S.PeerClosedError:
            self._on_disconnected()
        else:
            self._finish(None, core.ConnectionLost(self.sock.errorString()))

    def _on_disconnected(self):
        if self._done:
            return
        if self.sock is not None and self.sock.bytesAvailable():
            self._on_ready_read()
        if not self._done:
            if self.job is not None and self.job.cancel_requested:
                self._finish(None, core.DiffusiondError(core.CANCELLED, "request cancelled"))
            else:
                self._finish(None, core.ConnectionLost())

    # -- cancel / finish

    def cancel(self):
        if self._done:
            return
        if self.sock is None or self.sock.state() != QtNetwork.QLocalSocket.ConnectedState:
            self.job.cancel_requested = True
            return self._finish(None, core.DiffusiondError(core.CANCELLED, "request cancelled before it reached the daemon"))
        self.sock.write(self.job.cancel_bytes())
        self.sock.flush()
        self._grace = QtCore.QTimer(self)
        self._grace.setSingleShot(True)
        self._grace.timeout.connect(self._cancel_timed_out)
        self._grace.start(CANCEL_GRACE_MS)

    def _cancel_timed_out(self):
        if not self._done:
            self._finish(None, core.DiffusiondError(core.CANCELLED, "request cancelled (connection closed)"))

    def _finish(self, result, error):
        if self._done:
            return
        self._done = True
        if self._grace is not None:
            self._grace.stop()
        self._drop_socket()
        self.finished.emit(result, error)

    def close_workspace(self):
        """Removes the job's private folder (after finished's receivers read the result files)."""
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None

    @property
    def done(self):
        return self._done
