"""The consolidation plan: from what the audit found to what to retire, in what order.

Built from a Result document alone (so a saved Result can be planned again): targets per
capability (:mod:`.targets`), the retire and keep lists (:mod:`.retire`), savings against
a user-supplied price list (:mod:`.savings`), migration waves on a timeline
(:mod:`.waves`), and progress read from a decisions file (:mod:`.decisions`);
:func:`.build.build_plan` puts them together as the Result's ``plan`` object.
"""
