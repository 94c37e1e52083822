"""People and departments: who is on which products, and consumer-app exposure.

Exposure is the share of a department actively on a consumer product — where resident
and patient data most often leaks. Department-level head counts from interviews count
too, since a consultant's "about 40 operatives use WhatsApp groups" is evidence even
when no device inventory exists.
"""

from __future__ import annotations

from collections import defaultdict

from sprawl_audit.graph.build import AuditGraph


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    people = ag.resolution.people
    consumer = {nid for nid in ag.nodes_of("platform")
                if g.nodes[nid].get("classification") == "consumer"}
    person_platforms: dict[str, list[str]] = defaultdict(list)
    for pnode, persons in ag.active.items():
        for person in persons:
            person_platforms[person].append(pnode)

    dept_people: dict[str, int] = defaultdict(int)
    dept_consumer_users: dict[str, int] = defaultdict(int)
    dept_consumer_apps: dict[str, set[str]] = defaultdict(set)
    dept_platforms: dict[str, set[str]] = defaultdict(set)
    for nid in ag.nodes_of("person"):
        key = nid.split(":", 1)[1]
        rec = people.get(key)
        plats = sorted(person_platforms.get(nid, ()))
        cons = [p for p in plats if p in consumer]
        facts = g.nodes[nid]
        facts.update(
            department=ag.department_of.get(nid, ""),
            platforms=[g.nodes[p]["id"] for p in plats],
            platform_count=len(plats),
            consumer_platforms=[g.nodes[p]["id"] for p in cons],
        )
        if rec is not None:
            facts.update(
                name=rec.display_name or rec.id, job_title=rec.job_title, enabled=rec.enabled,
                guest=rec.guest, licences=list(rec.licences), attributes=dict(rec.attributes),
            )
        else:
            facts.update(enabled=None, guest=None, licences=[], job_title="", attributes={})
        dept = ag.department_of.get(nid, "")
        if rec is not None and rec.enabled and not rec.guest:
            dept_people[dept] += 1
        if cons:
            dept_consumer_users[dept] += 1
        for p in cons:
            dept_consumer_apps[dept].add(g.nodes[p]["name"])
        for p in plats:
            dept_platforms[dept].add(g.nodes[p]["id"])

    for pnode in consumer:
        for dept, count in ag.head_counts.get(pnode, {}).items():
            dept_consumer_users[dept] = max(dept_consumer_users[dept], count)
            dept_consumer_apps[dept].add(g.nodes[pnode]["name"])
            dept_platforms[dept].add(g.nodes[pnode]["id"])

    for dnode in ag.nodes_of("department"):
        dept = g.nodes[dnode]["name"]
        n_people = dept_people.get(dept, 0)
        users = dept_consumer_users.get(dept, 0)
        g.nodes[dnode].update(
            people=n_people,
            consumer_app_users=users,
            consumer_apps=sorted(dept_consumer_apps.get(dept, ())),
            consumer_exposure=round(min(1.0, users / n_people), 4) if n_people else
            (1.0 if users else 0.0),
            platforms=sorted(dept_platforms.get(dept, ())),
        )
