"""APB event programs ("sequencer"): small register programs the device runs on an event.

A program is a list of 32-bit words. Word 0 is a command word holding up to 16 two-bit opcodes,
least significant first (``POLL`` 0, ``WR`` 1, ``RD`` 2); after 16 opcodes a new command word is
placed inline before the next operation's operands. Operands:

- ``WR``: address, value — write the register.
- ``RD``: address, slot — the device overwrites the slot word with the register's value.
- ``POLL``: address, match, mask — continue once ``(reg & mask) == match``.

An ``RD`` whose address word is 0xFFFFFFFF ends the program. The host writes the program into
APB RAM (0x2000-0x2FFF) and points an event's vector at it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["OP_POLL", "OP_RD", "OP_WR", "Sequencer", "run_program"]

OP_POLL, OP_WR, OP_RD = 0, 1, 2
END = 0xFFFFFFFF
APB_RAM = 0x2000
APB_RAM_END = 0x3000
SW_EVENT_PROGRAM = 0x2800
NULL_PROGRAM = 0x2080


class Sequencer:
    """Builds one program to be loaded at ``location``.

    The ``read`` method returns the address of the slot the device fills in.
    """

    def __init__(self, location: int = SW_EVENT_PROGRAM) -> None:
        self.location = location
        self.words: list[int] = [0]
        self._command = 0
        self._ops = 0
        self._done = False

    def _op(self, op: int) -> None:
        if self._done:
            raise RuntimeError("the program is already terminated")
        if self._ops == 16:
            self.words.append(0)
            self._command, self._ops = len(self.words) - 1, 0
        self.words[self._command] |= op << (2 * self._ops)
        self._ops += 1

    def write(self, address: int, value: int) -> None:
        """Append ``WR address, value``."""
        self._op(OP_WR)
        self.words += [address, value & 0xFFFFFFFF]

    def read(self, address: int) -> int:
        """Append ``RD address``; returns the device address of the result slot."""
        self._op(OP_RD)
        self.words += [address, 0]
        return self.location + 4 * (len(self.words) - 1)

    def poll(self, address: int, match: int, mask: int) -> None:
        """Append ``POLL address, match, mask``."""
        self._op(OP_POLL)
        self.words += [address, match, mask]

    def done(self) -> list[tuple[int, int]]:
        """Terminate the program; returns the (address, word) writes that load it."""
        if not self._done:
            self._op(OP_RD)
            self.words.append(END)
            self._done = True
        return [(self.location + 4 * i, word) for i, word in enumerate(self.words)]


def run_program(
    start: int,
    ram: dict[int, int],
    read: Callable[[int], int],
    write: Callable[[int, int], object],
    max_steps: int = 4096,
) -> bool:
    """Interpret the program at ``start`` in ``ram`` (word address → value), device side.

    ``read``/``write`` access the device's registers. A ``POLL`` must match at once. Returns
    True when the program reached its terminator, False when it stopped early (poll mismatch,
    an invalid opcode, running off APB RAM, or ``max_steps`` exceeded). Never raises for a
    hostile program.
    """
    pc = start
    ops = 16
    command = 0
    for _ in range(max_steps):
        if ops == 16:
            if not APB_RAM <= pc < APB_RAM_END:
                return False
            command, ops, pc = ram.get(pc, 0), 0, pc + 4
        op = (command >> (2 * ops)) & 3
        ops += 1
        needed = {OP_WR: 2, OP_RD: 1, OP_POLL: 3}.get(op)
        if needed is None or not (pc >= APB_RAM and pc + 4 * needed <= APB_RAM_END):
            return False
        address = ram.get(pc, 0)
        if op == OP_WR:
            write(address, ram.get(pc + 4, 0))
            pc += 8
        elif op == OP_RD:
            if address == END:
                return True
            if pc + 8 > APB_RAM_END:
                return False
            ram[pc + 4] = read(address) & 0xFFFFFFFF
            pc += 8
        else:
            match, mask = ram.get(pc + 4, 0), ram.get(pc + 8, 0)
            if read(address) & mask != match:
                return False
            pc += 12
    return False
