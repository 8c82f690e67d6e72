"""A stateful test of the fund rules over sequences of postings.

The system under test is a tiny ledger built the way the services build theirs: rows appended
only after ``check_posting`` accepted every leg of a posting (a transfer's two legs together,
each checked against its fund's starting balance), balances advanced with what it returned.

The model is written independently of ``app.ledger``: integer minor units per fund, the kind
-> (allocated, encumbered, expended) mapping spelled out here, and its own computation of the
over-encumbrance / over-expenditure allowances. At every step the outcome of the SUT (accepted,
or refused with a shortfall) must equal the model's; after every step the invariants below hold.
"""
from __future__ import annotations

from decimal import Decimal

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from app.ledger import Balance, FundRules, LimitExceeded, TransactionKind, check_posting
from tests.helpers import examples

K = TransactionKind
PLACES = {"EUR": 2, "JPY": 0}
MAX = 300_000   # minor units per posting: a few thousand EUR, small enough to hit every limit

# One fund's rules, drawn as (over-encumbrance allowed, percent in hundredths of a percent,
# over-expenditure allowed, limit in minor units).
fund_rules = st.tuples(st.booleans(), st.integers(0, 5000), st.booleans(), st.integers(0, 50_000))
amount = st.integers(1, MAX)


class Model:
    """Plain arithmetic on integer minor units; knows nothing of app.ledger."""

    def __init__(self, rules):
        self.rules = rules   # fund -> (enc_ok, pct_hundredths, exp_ok, limit_units)
        self.alloc = {f: 0 for f in rules}
        self.enc = {f: 0 for f in rules}
        self.exp = {f: 0 for f in rules}

    def available(self, f):
        return self.alloc[f] - self.enc[f] - self.exp[f]

    def enc_allowance(self, f, alloc=None):
        enc_ok, pct_h, _, _ = self.rules[f]
        if not enc_ok:
            return 0
        a = max(self.alloc[f] if alloc is None else alloc, 0)
        return (2 * a * pct_h + 10000) // 20000          # a * pct / 100, rounded half up

    def exp_allowance(self, f):
        _, _, exp_ok, limit = self.rules[f]
        return limit if exp_ok else 0

    @staticmethod
    def delta(kind, units):
        return {K.ALLOCATION: (units, 0, 0), K.TRANSFER: (units, 0, 0), K.ENCUMBRANCE: (0, units, 0),
                K.DISENCUMBRANCE: (0, -units, 0), K.EXPENDITURE: (0, 0, units)}[kind]

    def judge(self, f, kind, units):
        """("ok", None) or ("refused", shortfall) for one posting on the current state."""
        da, de, dx = self.delta(kind, units)
        before = self.available(f)
        after = before + da - de - dx
        if after >= 0 or after >= before:
            return "ok", None
        if kind is K.ENCUMBRANCE:
            allowed = self.enc_allowance(f, self.alloc[f] + da)
        elif kind is K.EXPENDITURE:
            allowed = self.exp_allowance(f)
        else:
            allowed = 0
        return ("ok", None) if -after <= allowed else ("refused", -after - allowed)

    def apply(self, f, kind, units):
        da, de, dx = self.delta(kind, units)
        self.alloc[f] += da
        self.enc[f] += de
        self.exp[f] += dx


class LedgerMachine(RuleBasedStateMachine):

    @initialize(currency=st.sampled_from(sorted(PLACES)), rules=st.lists(fund_rules, min_size=3, max_size=4))
    def open_funds(self, currency, rules):
        self.currency, self.places = currency, PLACES[currency]
        self.funds = [f"F{i}" for i in range(len(rules))]
        self.labels = {f: f"{f} (Fund number {i})" for i, f in enumerate(self.funds)}
        self.model = Model(dict(zip(self.funds, rules)))
        # the system under test
        self.fund_rules = {f: FundRules(e, Decimal(p).scaleb(-2), x, Decimal(lim).scaleb(-self.places))
                           for f, (e, p, x, lim) in zip(self.funds, rules)}
        self.balances = {f: Balance() for f in self.funds}
        self.rows = []            # (fund, kind, Decimal amount), append-only
        self.accepted = self.refused = 0

    # -- helpers --------------------------------------------------------------------------------

    def money(self, units: int) -> Decimal:
        return Decimal(units).scaleb(-self.places)

    def text(self, units: int) -> str:
        """How a message prints a non-negative amount (thousands grouped), written out independently."""
        whole, frac = divmod(units, 10 ** self.places)
        return f"{whole:,}.{frac:0{self.places}d}" if self.places else f"{whole:,}"

    def sut_post(self, legs):
        """Post legs [(fund, kind, units)] all or nothing. Returns the LimitExceeded or None."""
        start = dict(self.balances)
        after = dict(start)
        try:
            for f, kind, units in legs:
                after[f] = check_posting(after[f], kind, self.money(units), self.fund_rules[f],
                                         currency=self.currency, fund_label=self.labels[f], base=start[f])
        except LimitExceeded as exc:
            return exc
        self.rows.extend((f, kind, self.money(units)) for f, kind, units in legs)
        self.balances = after
        return None

    def post(self, legs, judged_fund, verdict):
        """Run the SUT on ``legs`` and compare with the model's ``verdict`` for ``judged_fund``."""
        rows_before, balances_before = list(self.rows), dict(self.balances)
        outcome, shortfall = verdict
        exc = self.sut_post(legs)
        kind, units = legs[0][1], legs[0][2]
        what = {K.EXPENDITURE: "refund", K.ALLOCATION: "allocation decrease"}.get(kind, kind.value) \
            if units < 0 else kind.value
        event(f"{what} {'accepted' if exc is None else 'refused'}")  # see --hypothesis-show-statistics
        if exc is None:
            assert outcome == "ok", f"accepted but the model refuses it (short by {shortfall}): {legs}"
            for f, kind, units in legs:
                self.model.apply(f, kind, units)
            self.accepted += 1
        else:
            assert outcome == "refused", f"refused but the model accepts it: {legs}: {exc}"
            assert exc.shortfall == self.money(shortfall)
            assert exc.fund_label == self.labels[judged_fund]
            assert str(exc).startswith(f"Fund {self.labels[judged_fund]} cannot ")
            assert f"short by {self.text(shortfall)} {self.currency}." in str(exc), str(exc)
            # a refused posting changes nothing
            assert self.rows == rows_before
            assert self.balances == balances_before
            self.refused += 1

    def single(self, f, kind, units):
        self.post([(f, kind, units)], f, self.model.judge(f, kind, units))

    # -- rules ----------------------------------------------------------------------------------

    @rule(data=st.data(), units=amount, negative=st.booleans())
    def allocate(self, data, units, negative):
        f = data.draw(st.sampled_from(self.funds))
        self.single(f, K.ALLOCATION, -units if negative else units)

    @rule(data=st.data(), units=amount)
    def transfer(self, data, units):
        source = data.draw(st.sampled_from(self.funds))
        target = data.draw(st.sampled_from([f for f in self.funds if f != source]))
        self.do_transfer(source, target, units)

    def do_transfer(self, source, target, units):
        # the target leg only adds money, so the source leg decides
        assert self.model.judge(target, K.TRANSFER, units) == ("ok", None)
        self.post([(source, K.TRANSFER, -units), (target, K.TRANSFER, units)], source,
                  self.model.judge(source, K.TRANSFER, -units))

    @rule(data=st.data(), units=amount)
    def encumber(self, data, units):
        self.single(data.draw(st.sampled_from(self.funds)), K.ENCUMBRANCE, units)

    @precondition(lambda self: any(self.model.enc[f] > 0 for f in self.funds))
    @rule(data=st.data())
    def disencumber(self, data):
        f = data.draw(st.sampled_from([f for f in self.funds if self.model.enc[f] > 0]))
        units = data.draw(st.integers(1, self.model.enc[f]))
        self.single(f, K.DISENCUMBRANCE, units)

    @rule(data=st.data(), units=amount)
    def expend(self, data, units):
        self.single(data.draw(st.sampled_from(self.funds)), K.EXPENDITURE, units)

    @precondition(lambda self: any(self.model.exp[f] > 0 for f in self.funds))
    @rule(data=st.data())
    def refund(self, data):
        f = data.draw(st.sampled_from([f for f in self.funds if self.model.exp[f] > 0]))
        units = data.draw(st.integers(1, self.model.exp[f]))
        self.single(f, K.EXPENDITURE, -units)

    # the same postings aimed at the exact limit, one minor unit either side

    @rule(data=st.data(), delta=st.sampled_from([-1, 0, 1]))
    def encumber_to_the_limit(self, data, delta):
        f = data.draw(st.sampled_from(self.funds))
        units = self.model.available(f) + self.model.enc_allowance(f) + delta
        if units > 0:
            self.single(f, K.ENCUMBRANCE, units)

    @rule(data=st.data(), delta=st.sampled_from([-1, 0, 1]))
    def expend_to_the_limit(self, data, delta):
        f = data.draw(st.sampled_from(self.funds))
        units = self.model.available(f) + self.model.exp_allowance(f) + delta
        if units > 0:
            self.single(f, K.EXPENDITURE, units)

    @rule(data=st.data(), delta=st.sampled_from([-1, 0, 1]))
    def give_back_to_zero(self, data, delta):
        f = data.draw(st.sampled_from(self.funds))
        units = self.model.available(f) + delta
        if units > 0:
            self.single(f, K.ALLOCATION, -units)

    @rule(data=st.data(), delta=st.sampled_from([-1, 0, 1]))
    def transfer_everything(self, data, delta):
        source = data.draw(st.sampled_from(self.funds))
        target = data.draw(st.sampled_from([f for f in self.funds if f != source]))
        units = self.model.available(source) + delta
        if units > 0:
            self.do_transfer(source, target, units)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def balances_are_the_sums_of_the_rows(self):
        for f in self.funds:
            alloc = sum((a for g, k, a in self.rows if g == f and k in (K.ALLOCATION, K.TRANSFER)), Decimal(0))
            enc = (sum((a for g, k, a in self.rows if g == f and k is K.ENCUMBRANCE), Decimal(0))
                   - sum((a for g, k, a in self.rows if g == f and k is K.DISENCUMBRANCE), Decimal(0)))
            exp = sum((a for g, k, a in self.rows if g == f and k is K.EXPENDITURE), Decimal(0))
            b = self.balances[f]
            assert (b.allocated, b.encumbered, b.expended) == (alloc, enc, exp), f

    @invariant()
    def balances_equal_the_model(self):
        for f in self.funds:
            b, m = self.balances[f], self.model
            assert (b.allocated, b.encumbered, b.expended) == tuple(
                self.money(u) for u in (m.alloc[f], m.enc[f], m.exp[f])), f
            assert b.available == self.money(m.available(f))

    @invariant()
    def no_fund_is_over_what_its_rules_allow(self):
        """Available never goes below zero by more than the larger allowance in force.

        Holds because only an encumbrance or an expenditure may end below zero (within its own
        allowance), money taken back may not, and the encumbrance allowance can only shrink with
        the allocation, which may not be lowered while available is below zero."""
        for f in self.funds:
            overdraft = max(self.model.enc_allowance(f), self.model.exp_allowance(f))
            assert self.balances[f].available >= -self.money(overdraft), f
            assert self.balances[f].encumbered >= 0 and self.balances[f].expended >= 0

    @invariant()
    def transfers_sum_to_zero(self):
        legs = [a for _, k, a in self.rows if k is K.TRANSFER]
        assert sum(legs, Decimal(0)) == 0
        assert len(legs) % 2 == 0
        assert sum(self.balances[f].allocated for f in self.funds) == sum(
            (a for _, k, a in self.rows if k is K.ALLOCATION), Decimal(0))

    @invariant()
    def every_accepted_posting_left_its_rows(self):
        assert len(self.rows) == self.accepted + sum(1 for _, k, a in self.rows if k is K.TRANSFER and a > 0)


LedgerMachine.TestCase.settings = settings(max_examples=examples(500), stateful_step_count=30, deadline=None,
                                           database=None)
TestLedgerMachine = LedgerMachine.TestCase
