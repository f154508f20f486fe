from werkzeug.security import check_password_hash

from models.policy.staff import check_login
from models.tables.accounts import StaffUser

PASSWORD = "a-long-enough-secret"


def test_create_office_account_from_stdin(runner):
    result = runner.invoke(args=["staff", "create", "zhangsan", "--role", "office"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "已创建工作人员账号 zhangsan" in result.output
    staff = StaffUser.get(StaffUser.username == "zhangsan")
    assert staff.role == "office" and staff.department is None
    assert staff.password_hash != PASSWORD and check_password_hash(staff.password_hash, PASSWORD)
    assert check_login("zhangsan", PASSWORD).id == staff.id
    assert check_login("zhangsan", "wrong-password") is None


def test_create_department_account(runner):
    result = runner.invoke(args=["staff", "create", "eco", "--role", "department", "--department", "ecology"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert StaffUser.get(StaffUser.username == "eco").department.code == "ecology"


def test_refusals_change_nothing(runner):
    cases = [
        (["staff", "create", "d1", "--role", "department"], PASSWORD, "--department"),
        (["staff", "create", "d2", "--role", "department", "--department", "nosuch"], PASSWORD, "--department"),
        (["staff", "create", "short", "--role", "office"], "short", "至少"),
        (["staff", "create", "x", "--role", "admin"], PASSWORD, "admin"),
    ]
    for args, password, message in cases:
        result = runner.invoke(args=args, input=password + "\n")
        assert result.exit_code != 0 and message in result.output, result.output
    assert StaffUser.select().count() == 0
    runner.invoke(args=["staff", "create", "dup", "--role", "office"], input=PASSWORD + "\n")
    again = runner.invoke(args=["staff", "create", "dup", "--role", "office"], input=PASSWORD + "\n")
    assert again.exit_code != 0 and "已存在" in again.output
    assert StaffUser.select().count() == 1


def test_if_missing_leaves_an_existing_account_alone(runner):
    first = runner.invoke(args=["staff", "create", "demo-office", "--role", "office", "--if-missing"],
                          input=PASSWORD + "\n")
    assert first.exit_code == 0 and "已创建" in first.output
    again = runner.invoke(args=["staff", "create", "demo-office", "--role", "office", "--if-missing"],
                          input="another-long-password\n")
    assert again.exit_code == 0 and "已存在，未作改动" in again.output
    assert check_login("demo-office", PASSWORD) is not None and StaffUser.select().count() == 1
